/** The shell: the login gate, the navigation, and the page the route names. */
import { useEffect } from 'preact/hooks';
import { Nav } from './nav.js';
import { CatalogPage } from './pages/catalog.js';
import { ChannelsPage } from './pages/channels.js';
import { DhcpPage } from './pages/dhcp.js';
import { DirectoryPage } from './pages/directory.js';
import { DnsPage } from './pages/dns.js';
import { EventsPage } from './pages/events.js';
import { HostsPage } from './pages/hosts.js';
import { InstancePage } from './pages/instance.js';
import { InstancesPage } from './pages/instances.js';
import { KerberosPage } from './pages/kerberos.js';
import { LaunchPage } from './pages/launch.js';
import { LoginPage } from './pages/login.js';
import { NetworkPage } from './pages/network.js';
import { OverviewPage } from './pages/overview.js';
import { navigate, type Route, useRoute } from './router.js';
import { useSession } from './session.js';
import { Empty, Page } from './ui/page.js';
import { Link } from './ui/link.js';

function PageFor({ route }: { readonly route: Route }) {
  switch (route.page) {
    case '':
      return <OverviewPage />;
    case 'channels':
      return <ChannelsPage />;
    case 'catalog':
      return <CatalogPage />;
    case 'launch':
      return <LaunchPage query={route.query} />;
    case 'instances':
      return route.rest[0] ? <InstancePage id={route.rest[0]} /> : <InstancesPage />;
    case 'hosts':
      return <HostsPage />;
    case 'network':
      return <NetworkPage />;
    case 'dns':
      return <DnsPage />;
    case 'dhcp':
      return <DhcpPage />;
    case 'directory':
      return <DirectoryPage />;
    case 'kerberos':
      return <KerberosPage />;
    case 'events':
      return <EventsPage />;
    default:
      return (
        <Page title="Not found">
          <Empty>
            No page at <code>{route.path}</code>. <Link href="/">Go to the overview</Link>.
          </Empty>
        </Page>
      );
  }
}

export function App() {
  const session = useSession();
  const route = useRoute();

  // Logged in on the login page: go where the login was asked from.
  useEffect(() => {
    if (session.state === 'in' && route.page === 'login') navigate(route.query.get('next') ?? '/', { replace: true });
  }, [session.state, route.page]);

  if (session.state === 'checking') return <p class="loading-app">Connecting to the manager…</p>;
  if (session.state === 'out')
    return (
      <LoginPage
        ended={session.ended ?? false}
        error={session.error}
        next={route.page === 'login' ? (route.query.get('next') ?? '/') : route.path}
      />
    );
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Nav user={session.user} page={route.page} />
      <main id="main">
        <PageFor route={route} />
      </main>
    </div>
  );
}
