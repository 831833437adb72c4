/**
 * Packages that only some apps need (a database driver, Swagger UI, the request log) are
 * optional peer dependencies: loaded when first used, and when one is missing the error says
 * which package to install instead of a bare "Cannot find module".
 */

/** Thrown when an optional package is not installed; the message is one line. */
export class MissingPackageError extends Error {
  constructor(readonly packageName: string, purpose: string) {
    super(`ajax-endpoints: ${purpose} needs the package "${packageName}", which is not installed: npm install ${packageName}`);
    this.name = "MissingPackageError";
  }
}

function isMissing(error: unknown, packageName: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === "MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${packageName}`);
}

/** `require(packageName)`, or a {@link MissingPackageError} naming it. */
export function requireOptional<T>(packageName: string, purpose: string): T {
  try {
    return require(packageName) as T;
  } catch (error) {
    if (isMissing(error, packageName)) throw new MissingPackageError(packageName, purpose);
    throw error;
  }
}

/** `require.resolve(path)` of an optional package, or a {@link MissingPackageError}. */
export function resolveOptional(packageName: string, path: string, purpose: string): string {
  try {
    return require.resolve(`${packageName}/${path}`);
  } catch (error) {
    if (isMissing(error, packageName)) throw new MissingPackageError(packageName, purpose);
    throw error;
  }
}
