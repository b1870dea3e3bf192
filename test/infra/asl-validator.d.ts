// asl-validator ships no types; this is the part of its API the tests use (README "In your code").
declare module 'asl-validator' {
  interface AslValidationError {
    readonly message: string;
  }
  function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): { isValid: boolean; errors: AslValidationError[]; errorsText(separator?: string): string };
  export = aslValidator;
}
