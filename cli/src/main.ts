/** `storm`: the command-line client of the manager's API; the command table, in the order `storm --help` lists it. */
import { appliances, channel } from './commands/channels.js';
import { consoleCommand } from './commands/console.js';
import { dhcp } from './commands/dhcp.js';
import { group, user } from './commands/directory.js';
import { dns } from './commands/dns.js';
import { doctor } from './commands/doctor.js';
import { events } from './commands/events.js';
import { host, hosts } from './commands/hosts.js';
import { images } from './commands/images.js';
import { image } from './commands/image-import.js';
import { kerberos } from './commands/kerberos.js';
import { ls, reboot, rm, show, start, stop } from './commands/instances.js';
import { launch } from './commands/launch.js';
import { move } from './commands/move.js';
import { replicate } from './commands/replicate.js';
import { network } from './commands/network.js';
import { checkpoint, checkpoints, flatten, packageCommand, reprovision, rollback, upgrade } from './commands/lifecycle.js';
import { pull } from './commands/pull.js';
import { reconcile } from './commands/reconcile.js';
import { volume } from './commands/volumes.js';
import { account } from './commands/account.js';
import type { CommandSpec } from './command.js';
import { runCli } from './run.js';

export const COMMANDS: readonly CommandSpec[] = [
  // channels and the catalog
  channel,
  appliances,
  pull,
  images,
  image,
  // instances
  launch,
  ls,
  show,
  start,
  stop,
  reboot,
  consoleCommand,
  move,
  replicate,
  rm,
  // lifecycle over the layer stack
  checkpoint,
  checkpoints,
  rollback,
  upgrade,
  reprovision,
  packageCommand,
  flatten,
  // data volumes
  volume,
  // the caller's own settings
  account,
  // hosts and the control plane
  hosts,
  host,
  events,
  reconcile,
  doctor,
  // network services
  network,
  dns,
  dhcp,
  user,
  group,
  kerberos,
];

process.exitCode = await runCli(COMMANDS, process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
