/**
 * The host of a URL as sockets, TLS name checks and address policies want it: `URL.hostname` keeps
 * an IPv6 address in brackets (`[::1]`), which none of them accept.
 *
 * @example
 * urlHost('https://[::1]:9443/'); // '::1'
 * urlHost(new URL('https://host-1:9443')); // 'host-1'
 */
export function urlHost(url: URL | string): string {
  return (typeof url === 'string' ? new URL(url) : url).hostname.replace(/^\[|\]$/g, '');
}
