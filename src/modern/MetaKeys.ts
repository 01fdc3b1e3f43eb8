/** The one modern-era (stateless) protocol revision this bridge speaks to servers and desktops. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** The newest legacy-era revision: what the bridge initializes with on a modern desktop's behalf. */
export const LATEST_LEGACY_VERSION = '2025-11-25';

/** Legacy revisions a desktop may open with, oldest first; answers keep the desktop's own where listed. */
export const LEGACY_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'] as const;

/** Reserved `_meta` keys of the modern era (basic/index, "Per-request protocol fields"). */
export const MetaKeys = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Modern error codes (basic/index, "Error Codes"): any of them proves the server is modern. */
export const ModernErrors = {
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** The client requests MRTR carries as input requests (basic/patterns/mrtr, "Core Types"): all the bridge relays. */
export const INPUT_REQUEST_METHODS: ReadonlySet<string> = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);
