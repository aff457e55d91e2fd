/** JSON-RPC 2.0 over /mcp (HTTP and WS): `tools/list` answers an empty list — the envs expose no MCP tools yet. */
import { isRecord } from '../core/plain-data.js';

export function mcpAnswer(request: unknown): unknown {
  const id =
    isRecord(request) && (typeof request.id === 'number' || typeof request.id === 'string') ? request.id : null;
  if (!isRecord(request) || request.jsonrpc !== '2.0' || typeof request.method !== 'string')
    return {
      jsonrpc: '2.0',
      id,
      error: { code: -32600, message: 'Invalid Request: expected {jsonrpc: "2.0", method, id}' },
    };
  if (request.method === 'tools/list') return { jsonrpc: '2.0', id, result: { tools: [] } };
  return { jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${request.method.slice(0, 40)}` } };
}
