// Istio 1.1 Mixer attribute expressions (`destination.labels["app"] == "ratings" && ...`):
// galley checks their lexical shape (closed strings, balanced brackets, known operators) so a
// typo is reported with its place; mixer evaluates them.

const twoCharOperators = new Set(['==', '!=', '&&', '||', '<=', '>=']);
const operators = new Set(['|', '!', '(', ')', '[', ']', ',', '.', '+', '-', '*', '/', '<', '>', '{', '}', ':']);

/** What is wrong with an expression, or undefined. */
export function expressionProblem(expr: string): string | undefined {
  const stack: string[] = [];
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== ch) j += expr[j] === '\\' ? 2 : 1;
      if (j >= expr.length) return `unterminated string starting at offset ${i}`;
      i = j + 1;
      continue;
    }
    if (/[A-Za-z0-9_$@]/.test(ch)) { i++; continue; }
    if (twoCharOperators.has(expr.slice(i, i + 2))) { i += 2; continue; }
    if (!operators.has(ch)) return `unexpected character ${JSON.stringify(ch)} at offset ${i}`;
    if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (closing[ch]) {
      if (stack.pop() !== closing[ch]) return `unbalanced ${JSON.stringify(ch)} at offset ${i}`;
    }
    i++;
  }
  if (stack.length > 0) return `${JSON.stringify(stack[stack.length - 1])} is never closed`;
  return undefined;
}
