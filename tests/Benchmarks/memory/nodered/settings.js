// Node-RED settings for the memory comparison: no editor, no admin API, flows from flows.json, nothing else.
// NODE_RED_EXIT_AFTER=SECONDS ends the process then (so the sampler follows node itself, not a wrapper).
if (process.env.NODE_RED_EXIT_AFTER) setTimeout(() => process.exit(0), Number(process.env.NODE_RED_EXIT_AFTER) * 1000).unref();
module.exports = {
  flowFile: 'flows.json',
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.NODE_RED_PORT || 18880),
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false } },
};
