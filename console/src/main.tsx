/** The console's entry point: styles, the live stores, then the app. */
import { render } from 'preact';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { App } from './app.js';
import { trackLaunches } from './live/launches.js';
import { trackPulls } from './live/pulls.js';
import { checkSession } from './session.js';

trackPulls();
trackLaunches();
void checkSession();
render(<App />, document.getElementById('app')!);
