/** One `lora-repro <name>` sub-command. Each lives in its own file under src/cli/commands/. */
export interface Command {
  name: string;
  /** One line for `lora-repro --help`. */
  summary: string;
  /** Full usage text for `lora-repro <name> --help`. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}
