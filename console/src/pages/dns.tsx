/** DNS records the manager serves (instances' names and what appliances registered). */
import { Page } from '../ui/page.js';
import { ServiceList } from './service-list.js';

export function DnsPage() {
  return (
    <Page title="DNS records">
      <ServiceList path="/dns/records" what="DNS records" refreshOn={['dns', 'instance']} preferred={['name', 'type', 'value', 'ttl', 'priority', 'weight', 'port', 'instance', 'source']} />
    </Page>
  );
}
