// The views the page mounts. Each takes plain data from the model (events, frames, the timeline,
// kvmStat rows) and callbacks for selection; none talks to the worker.
export { CallChain, type CallChainProps } from './callchain/CallChain';
export { FrameDiff, exitSummary, type FrameSide } from './callchain/FrameDiff';
export { linearise, stepIndex, phaseAt, type WalkStep, type FramePhase } from './callchain/walk';
export { diffFrames, returnPath, type DiffRow } from './callchain/diff';
export { TimelineView, type TimelineProps, type ExitRef } from './timeline/TimelineView';
export { ExitStats, type ExitStatsProps } from './stats/ExitStats';
export { Narration, type NarrationProps } from './narration/Narration';
export { NarrationFeed, exitSentence } from './narration/feed';
