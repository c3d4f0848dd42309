/** The event stream's state for the header's live indicator. */
import { useEffect, useState } from 'preact/hooks';
import { liveEvents, type LinkState } from './event-stream.js';

export function useLinkState(): LinkState {
  const [state, setState] = useState<LinkState>(liveEvents.state);
  useEffect(() => {
    const off = liveEvents.onState(setState);
    // The state may have moved between the first render and this subscription.
    setState(liveEvents.state);
    return off;
  }, []);
  return state;
}
