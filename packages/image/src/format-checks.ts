import { CommandFailedError, type CommandResult, ImageInvalidError } from '@imgbased/core';

/**
 * Runs a read-only check of an image; a tool that fails on it means the image is damaged: its
 * failure becomes an ImageInvalidError naming the tool and its last line of complaint. Other
 * failures (a missing tool, a cancelled operation) pass through as they are.
 */
export async function checked(
  image: string,
  what: string,
  run: () => Promise<CommandResult>,
  classify?: (failure: CommandFailedError) => Error | undefined,
): Promise<CommandResult> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    const own = classify?.(error);
    if (own) throw own;
    throw new ImageInvalidError(image, `${what}: ${lastComplaint(error)}`, { cause: error });
  }
}

function lastComplaint(error: CommandFailedError): string {
  const details = error.details as { stderr?: string; exitCode?: number | null } | undefined;
  // tar and others close with a generic line ("Error is not recoverable: exiting now"); the cause is above it.
  const specific = (details?.stderr ?? '')
    .split('\n')
    .filter((line) => !/not recoverable|Exiting with failure status|Child returned status/.test(line))
    .join('\n');
  return lastLine(specific) ?? lastLine(details?.stderr ?? '') ?? `exit code ${details?.exitCode ?? 'unknown'}`;
}

export function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}
