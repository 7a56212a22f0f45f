// Copies the non-TypeScript files the code loads at run time from src/ to dist/: Lua scripts
// anywhere, and the static files of folders named `assets` (the dashboard's page, script, styles).
import { cpSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";

const everywhere = [".lua"];
const inAssets = [".html", ".css", ".js", ".svg"];

function wanted(path) {
  if (everywhere.some((e) => path.endsWith(e))) return true;
  return basename(dirname(path)) === "assets" && inAssets.some((e) => path.endsWith(e));
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (wanted(path)) cpSync(path, join("dist", relative("src", path)));
  }
}
walk("src");
