import { ApiError } from '@cellgraph/schema';

/**
 * Asserts an error answer of the API: its status, its code, the field it names (when
 * given), the one error shape, and no stack trace in the body. Returns the parsed body.
 */
export async function expectError(res: Response, status: number, code: string, field?: string): Promise<ApiError> {
  const text = await res.text();
  expect({ status: res.status, text }).toMatchObject({ status });
  const body = ApiError.parse(JSON.parse(text));
  expect(body.error.code).toBe(code);
  if (field !== undefined) expect(body.error.field).toBe(field);
  expect(text).not.toMatch(/at .*\.js:\d+/); // never a stack
  return body;
}
