/** Dates on the gateway's pages: one format everywhere, in UTC to the minute (e.g. 2026-12-02 14:05 UTC). */

export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A moment, shown as utcMinute and kept on one line (the stylesheet keeps <time> unbroken). */
export function When(props: { ms: number }) {
  return <time datetime={new Date(props.ms).toISOString()}>{utcMinute(props.ms)}</time>;
}
