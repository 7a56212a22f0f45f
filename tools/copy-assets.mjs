// Copies the non-TypeScript files the code loads at run time (Lua scripts) from src/ to dist/.
import { cpSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const exts = [".lua"];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (exts.some((e) => name.endsWith(e))) cpSync(path, join("dist", relative("src", path)));
  }
}
walk("src");
