/**
 * Looker's `fields` request parameter: which properties of an answer to send, nested with
 * parentheses, as in `id,title,model(id)` or `fields(dimensions(name,type,label))`. Arrays
 * are projected item by item. An unreadable list (unbalanced parentheses) projects nothing
 * away: the answer is sent whole.
 */

/** Property name → what to keep of its value (null: all of it). */
type Selection = Map<string, Selection | null>;

export function parseFieldsParam(text: string | undefined): Selection | null {
  if (text === undefined || text.trim() === '') return null;
  let at = 0;
  const list = (): Selection => {
    const selection: Selection = new Map();
    for (;;) {
      const name = /^\s*([^,()\s]*)\s*/.exec(text.slice(at))!;
      at += name[0].length;
      let inner: Selection | null = null;
      if (text[at] === '(') {
        at++;
        inner = list();
        if (text[at] !== ')') throw new SyntaxError('unbalanced parentheses');
        at++;
        at += /^\s*/.exec(text.slice(at))![0].length;
      }
      if (name[1] !== '') selection.set(name[1]!, inner);
      if (text[at] !== ',') return selection;
      at++;
    }
  };
  try {
    const selection = list();
    return at === text.length ? selection : null;
  } catch {
    return null;
  }
}

/** `value` with only the selected properties (recursively); `value` itself for no selection. */
export function project(value: unknown, selection: Selection | null): unknown {
  if (selection === null) return value;
  if (Array.isArray(value)) return value.map((item) => project(item, selection));
  if (typeof value !== 'object' || value === null) return value;
  const source = value as Record<string, unknown>;
  return Object.fromEntries([...selection].filter(([key]) => key in source).map(([key, inner]) => [key, project(source[key], inner)]));
}

/** Projects `value` by the request's `fields` parameter. */
export const withFields = (value: unknown, fieldsParam: string | undefined): unknown => project(value, parseFieldsParam(fieldsParam));
