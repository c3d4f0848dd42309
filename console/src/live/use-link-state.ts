/** The event stream's state for the header's live indicator. */
import { useEffect, useState } from 'preact/hooks';
import { liveEvents, type LinkState } from './event-stream.js';

export function useLinkState(): LinkState {
  const [state, setState] = useState<LinkState>(liveEvents.state);
  useEffect(() => liveEvents.onState(setState), []);
  return state;
}
