import { describe, expect, it } from 'vitest';
import { refusalKind } from './tool-output.js';
import { toolCallsIn } from './transcript.js';

describe('toolCallsIn', () => {
  it('pairs calls with their results, in order, as the model was shown them', () => {
    const items = [
      { type: 'message', role: 'user', content: 'hi' },
      { type: 'function_call', callId: 'c1', name: 'sql_query', arguments: '{"sql":"SELECT 1"}' },
      {
        type: 'function_call_result',
        callId: 'c1',
        name: 'sql_query',
        output: { type: 'text', text: 'SELECT 1' },
      },
      { type: 'function_call', callId: 'c2', name: 'list_pods', arguments: '{"namespace":null}' },
      { type: 'function_call_result', callId: 'c2', name: 'list_pods', output: 'No pods' },
    ];
    expect(toolCallsIn(items)).toEqual([
      { callId: 'c1', name: 'sql_query', arguments: { sql: 'SELECT 1' }, output: 'SELECT 1' },
      { callId: 'c2', name: 'list_pods', arguments: { namespace: null }, output: 'No pods' },
    ]);
  });
});

describe('refusalKind', () => {
  it.each([
    ['Dropping tables is not allowed. (rule no-drops)', 'Gatehouse policy does not allow this command'],
    ['gatehouse: denied: removing files is not allowed', 'Gatehouse policy does not allow this command'],
    ['command not allowed by policy', 'Gatehouse policy does not allow this command'],
    ['request apr_abc123 was denied by alice: not today', 'an approver denied this command'],
    ['request apr_abc123 was not approved in time', 'nobody approved this command in time'],
    ['relation "nope" does not exist', undefined],
  ])('%s', (message, kind) => {
    expect(refusalKind(message)).toBe(kind);
  });
});
