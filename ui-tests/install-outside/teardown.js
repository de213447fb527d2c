/** Removes the install-outside test's root (only the one install-outside.config.js made). */
const fs = require('fs');

module.exports = async () => {
  const root = process.env.CELLGRAPH_INSTALL_ROOT;
  if (root && root.includes('cg-install-ui-') && process.env.CELLGRAPH_KEEP_INSTALL_ROOT !== '1') fs.rmSync(root, { recursive: true, force: true });
};
