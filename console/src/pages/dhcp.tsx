/** DHCP leases the manager handed out. */
import { Page } from '../ui/page.js';
import { ServiceList } from './service-list.js';

export function DhcpPage() {
  return (
    <Page title="DHCP leases">
      <ServiceList
        path="/dhcp/leases"
        what="DHCP leases"
        refreshOn={['dhcp', 'instance']}
        preferred={['ip', 'mac', 'hostname', 'instanceName', 'active', 'expiresAt']}
      />
    </Page>
  );
}
