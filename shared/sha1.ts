/**
 * SHA-1 through Web Crypto, present in both Node 20 and Workers. Async by nature; hot paths in
 * the Node peer may use node:crypto instead, which gives the same digests.
 */
export async function sha1(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-1', data));
}
