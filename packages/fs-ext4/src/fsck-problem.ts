/** What `e2fsck -n` found wrong, in one line: its first complaint, without the answer `-n` gave ("Fix? no"). */
export function fsckProblem(result: { stdout: string; stderr: string; exitCode: number }): string {
  return firstProblem(result.stdout) ?? lastLine(result.stderr) ?? `exit code ${result.exitCode}`;
}

/** e2fsck's first complaint on stdout (its progress lines and banner passed over). */
export function firstProblem(stdout: string): string | undefined {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '' && !/^Pass \d/.test(line) && !/^e2fsck \d/.test(line))
    ?.replace(/\s+[\w ]+\? no$/, '');
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}
