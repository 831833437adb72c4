#!/usr/bin/env node
// Run before `npm start` builds anything: a port that is already taken is said in one line at
// once, instead of after the TypeScript build and the migrations.
const { createServer } = require("node:net");

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT=${process.env.PORT}: give a port number from 0 to 65535`);
  process.exit(1);
}
const probe = createServer();
probe.once("error", (error) => {
  if (error.code === "EADDRINUSE") console.error(`Port ${port} is in use: stop the other server or set PORT to a free port.`);
  else console.error(`Cannot listen on port ${port}: ${error.message}`);
  process.exit(1);
});
probe.listen(port, () => probe.close());
