/** The header: where you are, every page one key press away, the live link state, log out. */
import type { ConsolePage } from '../../common/console-pages.js';
import { useLinkState } from './live/use-link-state.js';
import { logOut } from './session.js';
import { Link } from './ui/link.js';

const ITEMS: readonly { readonly page: ConsolePage | ''; readonly label: string }[] = [
  { page: '', label: 'Overview' },
  { page: 'channels', label: 'Channels' },
  { page: 'catalog', label: 'Catalog' },
  { page: 'launch', label: 'Launch' },
  { page: 'instances', label: 'Instances' },
  { page: 'hosts', label: 'Hosts' },
  { page: 'network', label: 'Network' },
  { page: 'dns', label: 'DNS' },
  { page: 'dhcp', label: 'DHCP' },
  { page: 'directory', label: 'Directory' },
  { page: 'kerberos', label: 'Kerberos' },
  { page: 'events', label: 'Events' },
];

const LINK_TEXT = { live: 'live', connecting: 'connecting…', down: 'reconnecting…' } as const;

export function Nav({ user, page }: { readonly user: string; readonly page: ConsolePage | '' | null }) {
  const link = useLinkState();
  return (
    <header class="top">
      <div class="brand">
        <Link href="/">STORM</Link>
      </div>
      <nav aria-label="Pages">
        <ul>
          {ITEMS.map((i) => (
            <li key={i.page}>
              <Link href={`/${i.page}`} aria-current={page === i.page ? 'page' : undefined}>
                {i.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span class={`link link-${link}`} role="status" title="Live updates from the manager">
          {LINK_TEXT[link]}
        </span>
        <span class="user">{user}</span>
        <button type="button" onClick={() => void logOut()}>
          Log out
        </button>
      </div>
    </header>
  );
}
