/** Test shorthand: ASCII/UTF-8 text to bytes, and bytes to Latin-1 text for readable asserts. */
export const b = (text: string): Uint8Array => new TextEncoder().encode(text);
export const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
