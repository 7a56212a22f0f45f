// What the live stream said last, shared by the overview and its charts.

export const WINDOW_S = 300;

export const state = {
  coordinator: null,
  counts: null,
  agents: [],
  series: new Map(),
  failures: [],
  retries: [],
  reassignments: [],
};
