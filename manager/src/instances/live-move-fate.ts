/**
 * Where an interrupted live move goes, once its `move.migrate` started but was never recorded done
 * (the manager died while libvirt migrated, or right after): decided from what the two hosts hold,
 * never from the journal alone. `forward`: the source has no domain and the target has one (the
 * migration got through; the target's copy is the only one). `back`: the source still has its
 * domain and the target none (only the incoming folder; the migration failed or never began).
 * `wait`: both have a domain (a migration under way: the incoming guest paused on the target) or
 * neither has (nothing to finish or undo safely): the operation stays open for the next pass.
 *
 * @example
 * liveMoveFate({ state: 'absent' }, { state: 'running' }); // { fate: 'forward', why: '…' }
 */
import type { InstanceStatus } from '../../../stormd/protocol.js';

export type LiveMoveFate = 'forward' | 'back' | 'wait';

type Seen = Pick<InstanceStatus, 'state'>;

export function liveMoveFate(source: Seen, target: Seen): { fate: LiveMoveFate; why: string } {
  const onSource = source.state !== 'absent';
  const onTarget = target.state !== 'absent';
  if (!onSource && onTarget) return { fate: 'forward', why: `the guest is ${target.state} on the target and gone from the source` };
  if (onSource && !onTarget) return { fate: 'back', why: `the guest is ${source.state} on the source and the target has no domain for it` };
  if (onSource)
    return { fate: 'wait', why: `both hosts have a domain for it (source ${source.state}, target ${target.state}): a migration under way` };
  return { fate: 'wait', why: 'neither host has a domain for it' };
}
