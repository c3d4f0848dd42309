import { describe, expect, it } from 'vitest';
import { parseAnswer } from './wire-json.js';

describe('parseAnswer', () => {
  it('gives the JSON of a success, and undefined for an empty or non-JSON body', () => {
    expect(parseAnswer(200, '{"a":1}')).toEqual({ json: { a: 1 } });
    expect(parseAnswer(204, '')).toEqual({ json: undefined });
    expect(parseAnswer(200, 'not json')).toEqual({ json: undefined });
  });

  it("reads an error's catalog code and message, falling back to the body, then the status", () => {
    expect(parseAnswer(409, '{"code":"MGR_ERR_CONFLICT","message":"taken: web1"}').error).toEqual({
      status: 409,
      code: 'MGR_ERR_CONFLICT',
      message: 'taken: web1',
    });
    expect(parseAnswer(502, '<html>Bad Gateway</html>').error).toEqual({
      status: 502,
      code: undefined,
      message: '<html>Bad Gateway</html>',
    });
    expect(parseAnswer(503, '').error).toEqual({ status: 503, code: undefined, message: 'HTTP 503' });
    expect(parseAnswer(400, '{"code":7,"message":["x"]}').error).toEqual({
      status: 400,
      code: undefined,
      message: '{"code":7,"message":["x"]}',
    });
  });
});
