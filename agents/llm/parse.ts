/**
 * Robust extraction of the JSON answer from a model's text: the whole text as JSON first; else
 * inside a ``` fence; else the first balanced {...} object (strings and escapes respected). Models
 * that ignore `response_format` still wrap their JSON in prose or fences.
 */

export type Extracted = { value: unknown } | { error: string };

export function extractJson(text: string): Extracted {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'empty completion' };
  const direct = tryParse(trimmed);
  if (direct !== undefined) return { value: direct };
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(trimmed);
  if (fence?.[1]) {
    const inFence = tryParse(fence[1].trim());
    if (inFence !== undefined) return { value: inFence };
  }
  const object = firstBalancedObject(trimmed);
  if (object !== null) {
    const value = tryParse(object);
    if (value !== undefined) return { value };
  }
  return {
    error:
      `no JSON object in the completion: ` +
      `${JSON.stringify(trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed)}`,
  };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function firstBalancedObject(text: string): string | null {
  for (let start = text.indexOf('{'); start >= 0; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === '\\') i++;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        const candidate = text.slice(start, i + 1);
        if (tryParse(candidate) !== undefined) return candidate;
        break;
      }
    }
  }
  return null;
}
