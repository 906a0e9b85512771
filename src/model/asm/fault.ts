// A problem found in the source, at a column of the line being processed. The assembler catches
// it per statement, adds the line number and carries on, so one run reports every error.
export class AsmFault extends Error {
  constructor(
    readonly col: number,
    message: string,
  ) {
    super(message);
  }
}
