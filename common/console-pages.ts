/**
 * The web console's pages by their first path segment. The front end routes by this list and the
 * manager answers `index.html` for exactly these paths (and their sub-paths), never for `/api/*`.
 * Imported by the console's bundle too: no Node imports here.
 */
export const CONSOLE_PAGES = [
  'login',
  'channels',
  'catalog',
  'launch',
  'instances',
  'hosts',
  'network',
  'dns',
  'dhcp',
  'directory',
  'kerberos',
  'events',
] as const;

export type ConsolePage = (typeof CONSOLE_PAGES)[number];

/** Where the built console's static files are served from. */
export const CONSOLE_ASSETS_PREFIX = '/assets/';
