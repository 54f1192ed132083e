// `npm run test:e2e`, in Firefox: the demo's scenarios and the safety of the defaults,
// shared by every engine (demo-scenarios.ts, safety-scenarios.ts), driven by engines/firefox.ts.
import t from 'tap'
import { demoScenarios } from './demo-scenarios.js'
import { launchFirefox } from './engines/firefox.js'
import { safetyScenarios } from './safety-scenarios.js'

t.test('the demo', async (t) => { demoScenarios(t, launchFirefox) })
t.test('the safety of the defaults, over https', async (t) => { safetyScenarios(t, launchFirefox) })
