// `npm run test:e2e`, in Chromium: the demo's scenarios and the safety of the defaults,
// shared by every engine (demo-scenarios.ts, safety-scenarios.ts), driven by engines/chromium.ts.
import t from 'tap'
import { demoScenarios } from './demo-scenarios.js'
import { launchChromium } from './engines/chromium.js'
import { safetyScenarios } from './safety-scenarios.js'

t.test('the demo', async (t) => { demoScenarios(t, launchChromium) })
t.test('the safety of the defaults, over https', async (t) => { safetyScenarios(t, launchChromium) })
