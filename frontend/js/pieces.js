// Which output an event contributes to which pane of the viewer.

export const LOG_PANE = '\u0000log'; // a key no target name can take

/**
 * Output pieces of one event: `{pane, seq, stream, text, final}`.
 * Expert-mode executions stream stdout/stderr/log; without expert mode the only output is
 * in each target's `result` (stdout, then stderr), which arrives when that target finishes.
 * Either way a failed result's error is added to its target's pane.
 */
export function piecesOf(event, expertMode) {
  const { seq, type, target } = event;
  const data = event.data ?? {};
  switch (type) {
    case 'stdout':
    case 'stderr':
      return [{ pane: target ?? '', seq, stream: type, text: String(data.text ?? '') }];
    case 'log':
      return [{ pane: LOG_PANE, seq, stream: 'stdout', text: String(data.text ?? '') }];
    case 'command':
      return [{ pane: LOG_PANE, seq, stream: 'stdout', text: `$ ${data.argv ?? ''}\n` }];
    case 'error':
      return [{ pane: LOG_PANE, seq, stream: 'stderr', text: `${errorText(data)}\n` }];
    case 'result':
      return [...(expertMode ? [] : resultPieces(event)), ...resultError(event)];
    default:
      return [];
  }
}

function resultPieces({ seq, target, data }) {
  const pieces = [];
  if (data.stdout) pieces.push({ pane: target ?? '', seq, stream: 'stdout', text: String(data.stdout), final: true });
  if (data.stderr) pieces.push({ pane: target ?? '', seq, stream: 'stderr', text: String(data.stderr), final: true });
  return pieces;
}

/** A target that failed without output (unreachable, say) shows why in its own pane. */
function resultError({ seq, target, data }) {
  if (!data.error) return [];
  return [{ pane: target ?? '', seq, stream: 'stderr', text: `${errorText(data.error)}\n`, final: true }];
}

/** A one-line description of an error event's data (or a result's error). */
export function errorText(error) {
  if (!error) return '';
  const message = error.message ?? error.msg ?? 'error';
  return error.kind ? `Error: ${message} (${error.kind})` : `Error: ${message}`;
}

/** Number of line feeds in a text (to know when a page of earlier output is enough). */
export function countLines(text) {
  let count = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count += 1;
  return count;
}
