/**
 * The client capabilities `check` declares, as a desktop app does (roots, sampling, elicitation):
 * a server may list tools only to a client that can serve what they need, and the report is to
 * show what a desktop would see. The same in both eras (the modern one sends them in `_meta`).
 */
export const DESKTOP_CAPABILITIES = { roots: { listChanged: true }, sampling: {}, elicitation: {} };
