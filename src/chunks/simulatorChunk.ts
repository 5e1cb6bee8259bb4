// The entry point of dist/simulator.js: the built-in simulated backends, a separate chunk because the simulator carries
// its own tokenizer (about 1 MB of BPE ranks). It is loaded only when the person turns the simulator on.
export { startSimulator } from '../sim/simulator';
