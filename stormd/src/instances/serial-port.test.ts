import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { StormdErr } from '../errors.js';
import { SerialPorts, serialPtyPath } from './serial-port.js';

// A pty pair held by python (the guest's side, as qemu holds the master): prints the slave's path,
// answers each chunk read from the master with its name, ":" and the chunk, and closes on its
// stdin's end. The master is non-blocking: while no one holds the slave, select says readable (EIO),
// and a read that lost that race to our open would block forever.
const GUEST = `
import os, pty, select, sys, time, tty
master, slave = pty.openpty()
tty.setraw(slave)
os.set_blocking(master, False)
print(os.ttyname(slave), flush=True)
os.close(slave)
while True:
    r, _, _ = select.select([master, sys.stdin], [], [])
    if sys.stdin in r:
        break
    try:
        data = os.read(master, 1024)
    except OSError:
        time.sleep(0.02)
        continue
    os.write(master, sys.argv[1].encode() + b':' + data)
`;

interface FakeGuest {
  path: string;
  close: () => void;
}

const guests: FakeGuest[] = [];
function fakeGuest(name: string): Promise<FakeGuest> {
  const child = spawn('python3', ['-c', GUEST, name], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => {
      const guest = { path: b.toString().trim(), close: () => child.stdin.end() };
      guests.push(guest);
      resolve(guest);
    });
    child.once('error', reject);
  });
}

const sink = () => {
  const s = {
    got: '',
    ended: '' as string,
    data: (b: Buffer) => void (s.got += b.toString()),
    closed: (why: string) => void (s.ended = why),
  };
  return s;
};
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(ok()).toBe(true);
};

describe('serialPtyPath', () => {
  it("reads serial port 0's pty from a running domain's XML", () => {
    const xml = `<domain><devices>
      <serial type='pty'><source path='/dev/pts/7'/><log file='/d/console.log' append='on'/><target type='isa-serial' port='0'/></serial>
      <console type='pty' tty='/dev/pts/7'><source path='/dev/pts/7'/><target type='serial' port='0'/></console>
    </devices></domain>`;
    expect(serialPtyPath(xml)).toBe('/dev/pts/7');
  });

  it('finds none for a file serial, a shut-off domain (no path yet) or a path that is not a pty', () => {
    expect(
      serialPtyPath(`<domain><devices><serial type='file'><source path='/d/console.log'/><target port='0'/></serial></devices></domain>`),
    ).toBeNull();
    expect(serialPtyPath(`<domain><devices><serial type='pty'><target port='0'/></serial></devices></domain>`)).toBeNull();
    expect(
      serialPtyPath(`<domain><devices><serial type='pty'><source path='/etc/shadow'/><target port='0'/></serial></devices></domain>`),
    ).toBeNull();
  });
});

describe('SerialPorts on a real pty', () => {
  afterEach(() => {
    for (const g of guests.splice(0)) g.close();
  });

  it('opens the pty once for every attachment, relays both ways, and closes it after the last', async () => {
    const guest = await fakeGuest('one');
    const ports = new SerialPorts();
    const a = sink();
    const b = sink();
    const ha = await ports.attach('i1', guest.path, a);
    const hb = await ports.attach('i1', guest.path, b);
    ha.write(Buffer.from('ls'));
    await until(() => a.got.includes('one:ls') && b.got.includes('one:ls'));
    hb.detach();
    ha.detach();
    // Whoever detached is not told anything; the next attachment opens its pty afresh, so a domain
    // restarted in between (a new pty) is reached, not the old one.
    expect([a.ended, b.ended]).toEqual(['', '']);
    const again = await fakeGuest('two');
    const c = sink();
    (await ports.attach('i1', again.path, c)).write(Buffer.from('pwd'));
    await until(() => c.got.includes('two:pwd'));
    expect(a.got).not.toContain('pwd');
  });

  it("tells everyone attached when the guest's side goes away", async () => {
    const guest = await fakeGuest('three');
    const ports = new SerialPorts();
    const a = sink();
    await ports.attach('i2', guest.path, a);
    guest.close();
    await until(() => a.ended !== '');
    expect(a.ended).toMatch(/serial port (closed|failed)/);
  });

  it('refuses a path that is not a pty', async () => {
    await expect(new SerialPorts().attach('i3', '/etc/passwd', sink())).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_BAD_INPUT.is(e));
  });
});
