// The Clause extension: the grammar and language configuration are declared in
// package.json; this module starts the clausec language server (`clausec lsp` by default)
// over standard input and output and restarts it when its settings change.

import * as vscode from "vscode";
import {
  Executable,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

const SECTION = "clausec";
const CLIENT_NAME = "Clause Language Server";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand(`${SECTION}.restartServer`, restart),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (
        event.affectsConfiguration(`${SECTION}.serverPath`) ||
        event.affectsConfiguration(`${SECTION}.serverArgs`)
      ) {
        await restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

function serverExecutable(): Executable {
  const config = vscode.workspace.getConfiguration(SECTION);
  const command = config.get<string>("serverPath", "clausec").trim() || "clausec";
  const args = config.get<string[]>("serverArgs", ["lsp"]);
  return { command, args };
}

async function start(): Promise<void> {
  const executable = serverExecutable();
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "clause" },
      { scheme: "untitled", language: "clause" },
    ],
    synchronize: {
      // Amendments and test files name the agreement they belong to: the server
      // needs to hear of the other clause files of the workspace changing.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.clause"),
    },
  };
  // The id `clausec` makes the client read the `clausec.trace.server` setting.
  client = new LanguageClient(SECTION, CLIENT_NAME, serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    // Highlighting still works without the server: say what to fix and carry on.
    const command = [executable.command, ...(executable.args ?? [])].join(" ");
    const choice = await vscode.window.showErrorMessage(
      `Could not start the Clause language server with \`${command}\`: ${String(error)}. ` +
        "Install clausec, or set clausec.serverPath to its executable.",
      "Open Settings",
    );
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", SECTION);
    }
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
