#!/usr/bin/env bash
# The adoption test: what a new user does, from the packed tarball, outside this repository.
#
#  1. `npm pack` (prepack builds dist/src), then the README's install commands in a fresh
#     directory with the tarball in place of `ajax-endpoints` from the registry;
#  2. the README's example files (blocks ```ts file=...), compiled three ways: the README's
#     tsconfig.json with TypeScript 7 (the build that runs) and with TypeScript 5.x from npm,
#     and `tsc --init`'s defaults (TypeScript 7) plus the README's additions;
#  3. the README's run commands: TypeORM's CLI generates and runs the migration on SQLite, the
#     first user is created, the server starts; scripts/adoption-flow.js drives login, CSRF and
#     a CRUD flow over HTTP; SIGTERM stops it;
#  4. the install size of the app (`du -sk node_modules`).
#
# Needs the npm registry. KEEP=1 keeps the temporary directory.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ajax-adoption.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
step() { printf '\n---- %s\n' "$1"; }
npm_quiet=(--no-audit --no-fund --loglevel=error)

step "npm pack"
tarball="$work/$(cd "$repo" && npm pack --silent --pack-destination "$work" </dev/null | tail -1)"
tar -tzf "$tarball" | sed 's#^package/##' | LC_ALL=C sort > "$work/files.txt"
echo "$(wc -l < "$work/files.txt") files, $(du -k "$tarball" | cut -f1) kB packed"
if grep -E '^(test|bench|entities|endpoints|migrations|public|scripts|\.ci)/|^dist/(test|bench)' "$work/files.txt"; then
  echo "the tarball holds files that are not the framework (above)" >&2
  exit 1
fi

# A fenced block of the README by its info string (```sh install-command), one command a line.
block() { node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  const match = new RegExp("^```" + process.argv[2] + "\\n([\\s\\S]*?)^```", "m").exec(text);
  if (!match) { console.error("README has no block " + process.argv[2]); process.exit(1); }
  process.stdout.write(match[1]);' "$repo/README.md" "$1"; }

step "the README's list of the tarball's files"
if ! diff <(block "text tarball-files" | node "$repo/scripts/tarball-files.js" --expand | LC_ALL=C sort) "$work/files.txt"; then
  echo "the README's file list is not the tarball's (< README, > tarball); its short form is:" >&2
  node "$repo/scripts/tarball-files.js" < "$work/files.txt" >&2
  exit 1
fi
echo "the same $(wc -l < "$work/files.txt") files"

step "the README's install commands (ajax-endpoints from the tarball)"
cd "$work"
while IFS= read -r line; do
  [ -z "$line" ] && continue
  line=${line//ajax-endpoints /$tarball }
  [[ $line == npm\ install* ]] && line="$line ${npm_quiet[*]}"
  echo "\$ $line"
  eval "$line" </dev/null
done < <(block "sh install-command")
app=$(pwd)
[ "$app" != "$work" ] || { echo "the install commands did not create the app directory" >&2; exit 1; }

step "the README's example files"
node "$repo/scripts/readme-example.js" "$repo/README.md" "$app"

step "compile: the README's tsconfig.json, TypeScript $(npx tsc --version | cut -d' ' -f2)"
npx tsc -p tsconfig.json

step "compile: the README's tsconfig.json, TypeScript 5.x from npm"
mkdir -p "$work/ts5" && (cd "$work/ts5" && npm init -y >/dev/null && npm install typescript@5 "${npm_quiet[@]}" </dev/null)
"$work/ts5/node_modules/.bin/tsc" --version
"$work/ts5/node_modules/.bin/tsc" -p tsconfig.json --noEmit

step "compile: tsc --init defaults (TypeScript 7) plus the README's additions"
mkdir -p init && (cd init && npx tsc --init >/dev/null)
node -e '
  const additions = require(process.argv[1]).extractExample(require("fs").readFileSync(process.argv[2], "utf8")).tscInitAdditions;
  require("fs").writeFileSync("tsconfig.init.json", JSON.stringify({ extends: "./init/tsconfig.json", ...additions }, null, 2));
' "$repo/scripts/readme-example.js" "$repo/README.md"
npx tsc -p tsconfig.init.json --noEmit

step "compile: a page script against ajax-endpoints/client (its own types, checked with skipLibCheck off)"
mkdir -p check-client
cat > check-client/page.ts <<'TS'
import "ajax-endpoints/client";
import type { AjaxClient } from "ajax-endpoints/client";

const client: AjaxClient = AJAX;
const articles = client.model<{ id: number; title: string }>("blog", "article");
const page = await articles.list({ filter: { published: true }, order: "-id" });
const first: number | undefined = page.data[0]?.id;
const sum = await AJAX.call<number>("blog", "add", { a: 2, b: 3 }, { signal: undefined });
export { first, sum };
TS
cat > check-client/tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "nodenext", "target": "es2023", "lib": ["es2023", "dom"], "types": [], "strict": true,
  "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true, "verbatimModuleSyntax": true, "noEmit": true,
  "skipLibCheck": false }, "include": ["page.ts"] }
JSON
npx tsc -p check-client

step "the README's run commands on SQLite"
port=$(node -e 'const s = require("net").createServer().listen(0, () => { console.log(s.address().port); s.close(); })')
while IFS= read -r line; do
  [ -z "$line" ] && continue
  if [[ $line == "node dist/server.js" ]]; then
    echo "\$ PORT=$port $line &"
    PORT=$port SESSION_SECRET=adoption-test node dist/server.js > "$work/server.log" 2>&1 &
    server_pid=$!
  else
    echo "\$ $line"
    eval "$line" </dev/null
  fi
done < <(block "sh run-commands")
for _ in $(seq 1 50); do grep -q "listening on" "$work/server.log" && break; sleep 0.2; done
cat "$work/server.log"

step "a browser's flow over HTTP: CSRF, login, create, get, update, list, ad-hoc, delete, logout"
node "$repo/scripts/adoption-flow.js" "http://127.0.0.1:$port" alice alice-password
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

step "a driver that is not installed is named at start-up"
message=$(node --input-type=module -e '
  import { DataSource } from "typeorm";
  try { new DataSource({ type: "postgres", url: "postgres://localhost/none" }); } catch (error) { console.log(error.message); }
')
echo "$message"
grep -q 'npm install pg' <<<"$message" || { echo "the error does not name the package to install" >&2; exit 1; }

step "install size"
echo "node_modules of the app (SQLite, TypeScript and @types included): $(du -sk node_modules | cut -f1) kB, $(npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"
npm prune --omit=dev "${npm_quiet[@]}" </dev/null
echo "without devDependencies (what a production install holds): $(du -sk node_modules | cut -f1) kB, $(npm ls --all --parseable --omit=dev 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"

step "a PostgreSQL app: no SQLite, MySQL or Swagger UI package installed, and the framework loads"
mkdir -p "$work/pg-app" && cd "$work/pg-app"
npm init -y >/dev/null && npm pkg set type=module
npm install "$tarball" typeorm reflect-metadata express pg "${npm_quiet[@]}" </dev/null
for absent in better-sqlite3 mysql2 swagger-ui-dist jquery; do
  if [ -d "node_modules/$absent" ]; then echo "a PostgreSQL app got $absent" >&2; exit 1; fi
done
node --input-type=module -e '
  import { createAjax, ModelEndpoint } from "ajax-endpoints";
  import { DataSource } from "typeorm";
  new DataSource({ type: "postgres", url: "postgres://localhost/none" });   // pg is there: no DriverPackageNotInstalledError
  if (typeof createAjax !== "function" || typeof ModelEndpoint !== "function") process.exit(1);
'
echo "node_modules of the PostgreSQL app: $(du -sk node_modules | cut -f1) kB, $(npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"
echo "adoption test passed in ${SECONDS}s"
