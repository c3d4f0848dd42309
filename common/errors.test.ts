import { describe, expect, it } from 'vitest';
import { defineErrors, StormError } from './errors.js';

describe('defineErrors', () => {
  const Err = defineErrors({
    X_ERR_NOT_FOUND: { status: 404, message: 'not found' },
    X_ERR_BAD: { status: 400, message: 'bad input' },
  });

  it('names every factory by its key and keeps its status', () => {
    for (const [key, factory] of Object.entries(Err)) expect(factory.code).toBe(key);
    expect(Err.X_ERR_NOT_FOUND.status).toBe(404);
  });

  it('appends the detail to the message and serializes to { code, message }', () => {
    const err = Err.X_ERR_NOT_FOUND('instance web1');
    expect(err).toBeInstanceOf(StormError);
    expect(err.message).toBe('not found: instance web1');
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'X_ERR_NOT_FOUND', message: 'not found: instance web1' });
  });

  it('recognizes its own errors only', () => {
    expect(Err.X_ERR_BAD.is(Err.X_ERR_BAD())).toBe(true);
    expect(Err.X_ERR_BAD.is(Err.X_ERR_NOT_FOUND())).toBe(false);
    expect(Err.X_ERR_BAD.is(new Error('x'))).toBe(false);
  });

  it('keeps the cause and details', () => {
    const cause = new Error('disk full');
    const err = Err.X_ERR_BAD('layer', { cause, details: { layer: 'abc' } });
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({ code: 'X_ERR_BAD', message: 'bad input: layer', details: { layer: 'abc' } });
  });
});
