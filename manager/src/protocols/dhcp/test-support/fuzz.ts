/**
 * Seeded random packets for the robustness tests: pure noise, and valid packets mutated the ways
 * parsers break (bit flips, overwritten bytes, truncation, extension, length fields set wrong).
 *
 * @example
 * const rng = seededRandom(42);
 * const junk = mutate(validPacket, rng);
 */

/** mulberry32: small, fast and good enough to make test input reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rng: () => number, maxLength: number): Buffer {
  const out = Buffer.allocUnsafe(Math.floor(rng() * (maxLength + 1)));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

export function mutate(valid: Buffer, rng: () => number): Buffer {
  const b = Buffer.from(valid);
  const pick = () => Math.floor(rng() * b.length);
  switch (Math.floor(rng() * 6)) {
    case 0: // flip a few bits
      for (let i = 0, n = 1 + Math.floor(rng() * 8); i < n && b.length; i++) b[pick()]! ^= 1 << Math.floor(rng() * 8);
      return b;
    case 1: // overwrite a few bytes
      for (let i = 0, n = 1 + Math.floor(rng() * 8); i < n && b.length; i++) b[pick()] = Math.floor(rng() * 256);
      return b;
    case 2: // truncate
      return b.subarray(0, pick());
    case 3: // extend with noise
      return Buffer.concat([b, randomBytes(rng, 64)]);
    case 4: // a length or count byte set to its maximum
      if (b.length) b[pick()] = 0xff;
      return b;
    default: // a run of zeros
      if (b.length) b.fill(0, pick(), pick());
      return b;
  }
}
