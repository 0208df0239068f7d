/**
 * One progress line: redrawn in place on a terminal, a plain line every 10% otherwise (logs and
 * pipes stay readable).
 */
export function progressLine(stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  let lastStep = -1;
  let lastPhase = '';
  const started = Date.now();
  return {
    update(phase: string, done: number, total: number) {
      const fraction = total === 0 ? 1 : done / total;
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      const text = `${phase.padEnd(9)} ${(fraction * 100).toFixed(1).padStart(5)}%  ${mib(done)}/${mib(total)} MiB  ${mib(rate)} MiB/s`;
      if (tty) {
        const width = 24;
        const filled = Math.round(fraction * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}   `);
        return;
      }
      const step = Math.floor(fraction * 10);
      if (step !== lastStep || phase !== lastPhase) {
        stream.write(`${text}\n`);
        lastStep = step;
        lastPhase = phase;
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
