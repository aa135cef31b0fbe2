// The HTTP API client: JSON in, JSON out, one error type carrying the server's error shape.

/** An error answer of the API: {"error": {"code", "message", "details"}}. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message || `request failed with HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.details = error.details && typeof error.details === 'object' ? error.details : {};
  }

  /** Field problems as {field: [messages]} (only the entries whose value is a list of strings). */
  get fieldErrors() {
    const fields = {};
    for (const [name, value] of Object.entries(this.details)) {
      if (Array.isArray(value)) fields[name] = value.map(String);
    }
    return fields;
  }
}

/** Call the API; resolves to the parsed JSON body, rejects with ApiError (or a network TypeError). */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const init = { method, signal, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Build a query string from an object, skipping empty values; arrays become comma lists. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) {
      if (value.length) search.set(key, value.join(','));
    } else {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const executionPath = (id) => `/api/executions/${encodeURIComponent(id)}`;
