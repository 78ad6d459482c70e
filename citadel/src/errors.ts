// Stable codes for every refusal citadel answers with (CsrResponse.code, API error bodies).

export const errorCodes = {
  BAD_REQUEST: 'BAD_REQUEST',
  CSR_INVALID: 'CSR_INVALID',
  CSR_SIGNATURE_INVALID: 'CSR_SIGNATURE_INVALID',
  CSR_KEY_TOO_WEAK: 'CSR_KEY_TOO_WEAK',
  IDENTITY_INVALID: 'IDENTITY_INVALID',
  TTL_INVALID: 'TTL_INVALID',
  TTL_TOO_LONG: 'TTL_TOO_LONG',
  NOT_ENTITLED: 'NOT_ENTITLED',
  SIGN_FAILED: 'SIGN_FAILED',
  CA_ROOT_INCOMPLETE: 'CA_ROOT_INCOMPLETE',
  CA_ROOT_INVALID: 'CA_ROOT_INVALID',
  CA_CONFIG_INVALID: 'CA_CONFIG_INVALID',
} as const;

export type ErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

export class CitadelError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'CitadelError';
  }
}
