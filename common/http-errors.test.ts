import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { defineErrors } from './errors.js';
import { httpErrorHandlers } from './http-errors.js';

const Err = defineErrors({
  T_ERR_BAD: { status: 400, message: 'bad input' },
  T_ERR_BIG: { status: 413, message: 'too large' },
  T_ERR_MEDIA: { status: 415, message: 'unsupported media type' },
  T_ERR_INTERNAL: { status: 500, message: 'internal error' },
  T_ERR_ROUTE: { status: 404, message: 'no such route' },
  T_ERR_TAKEN: { status: 409, message: 'taken' },
});

async function app() {
  const a = Fastify({ logger: false, bodyLimit: 64 });
  httpErrorHandlers({
    badInput: (m) => Err.T_ERR_BAD(m),
    payloadTooLarge: () => Err.T_ERR_BIG(),
    unsupportedMediaType: (m) => Err.T_ERR_MEDIA(m),
    internal: (cause) => Err.T_ERR_INTERNAL(undefined, { cause }),
    routeNotFound: (w) => Err.T_ERR_ROUTE(w),
  }).installErrorHandlers(a);
  a.post('/things', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => ({
    ok: true,
  }));
  a.get('/taken', async () => {
    throw Err.T_ERR_TAKEN('web1', { details: { name: 'web1' } });
  });
  a.get('/boom', async () => {
    throw new Error('secret internals');
  });
  return a;
}

describe('httpErrorHandlers', () => {
  it("answers fastify's own errors with the program's catalog codes", async () => {
    const a = await app();
    const json = (r: { statusCode: number; json(): unknown }) => ({ status: r.statusCode, body: r.json() });
    expect(json(await a.inject({ method: 'POST', url: '/things', payload: {} }))).toMatchObject({
      status: 400,
      body: { code: 'T_ERR_BAD' },
    });
    expect(json(await a.inject({ method: 'POST', url: '/things', payload: { name: 'x'.repeat(100) } }))).toMatchObject({
      status: 413,
      body: { code: 'T_ERR_BIG' },
    });
    expect(
      json(await a.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' })),
    ).toMatchObject({ status: 415, body: { code: 'T_ERR_MEDIA' } });
    expect(
      json(await a.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '' })),
    ).toMatchObject({ status: 400, body: { code: 'T_ERR_BAD' } });
    expect(json(await a.inject({ method: 'GET', url: '/nowhere?x=1' }))).toEqual({
      status: 404,
      body: { code: 'T_ERR_ROUTE', message: 'no such route: GET /nowhere' },
    });
  });

  it('keeps catalog errors with their details, and hides anything else behind the internal code', async () => {
    const a = await app();
    const taken = await a.inject({ method: 'GET', url: '/taken' });
    expect({ status: taken.statusCode, body: taken.json() }).toEqual({
      status: 409,
      body: { code: 'T_ERR_TAKEN', message: 'taken: web1', details: { name: 'web1' } },
    });
    const boom = await a.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ code: 'T_ERR_INTERNAL', message: 'internal error' });
  });
});
