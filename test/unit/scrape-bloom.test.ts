/** BEP 33 bloom filters against the BEP's own test vector: the exact bytes and the 1224.9308 estimate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrapeBloom } from '../../shared/dht/scrape-bloom.js';

const EXPECTED = `F6C3F5EA A07FFD91 BDE89F77 7F26FB2B FF37BDB8 FB2BBAA2 FD3DDDE7 BACFFF75 EE7CCBAE
 FE5EEDB1 FBFAFF67 F6ABFF5E 43DDBCA3 FD9B9FFD F4FFD3E9 DFF12D1B DF59DB53 DBE9FA5B
 7FF3B8FD FCDE1AFB 8BEDD7BE 2F3EE71E BBBFE93B CDEEFE14 8246C2BC 5DBFF7E7 EFDCF24F
 D8DC7ADF FD8FFFDF DDFFF7A4 BBEEDF5C B95CE81F C7FCFF1F F4FFFFDF E5F7FDCB B7FD79B3
 FA1FC77B FE07FFF9 05B7B7FF C7FEFEFF E0B8370B B0CD3F5B 7F2BD93F EB4386CF DD6F7FD5
 BFAF2E9E BFFFFEEC D67ADBF7 C67F17EF D5D75EBA 6FFEBA7F FF47A91E B1BFBB53 E8ABFB57
 62ABE8FF 237279BF EFBFEEF5 FFC5FEBF DFE5ADFF ADFEE1FB 737FFFFB FD9F6AEF FEEE76B6
 FD8F72EF`.replace(/\s+/g, '');

test('192.0.2.0-255 and 2001:DB8::-2001:DB8::3E7 give the BEP 33 test vector and an estimate of 1224.9308', async () => {
  const bloom = new ScrapeBloom();
  for (let i = 0; i <= 255; i++) await bloom.insertIp(Uint8Array.of(192, 0, 2, i));
  for (let i = 0; i <= 0x3e7; i++) {
    const ip = new Uint8Array(16);
    ip.set([0x20, 0x01, 0x0d, 0xb8]);
    ip[14] = i >> 8;
    ip[15] = i & 0xff;
    await bloom.insertIp(ip);
  }
  assert.equal(Buffer.from(bloom.bits).toString('hex').toUpperCase(), EXPECTED);
  // The BEP prints the estimate cut to four places (1224.93087... here).
  assert.ok(Math.abs(bloom.estimate() - 1224.9308) < 1e-4, String(bloom.estimate()));
  // A union with itself changes nothing; with an empty filter, nothing either.
  const copy = new ScrapeBloom(bloom.bits);
  copy.union(new ScrapeBloom());
  assert.equal(copy.estimate(), bloom.estimate());
});
