/** Someone with the open file open, from its awareness state. */
export interface Person {
  readonly name: string;
  readonly color: string;
  readonly me: boolean;
}

const PALETTE = ['#e91e63', '#3f51b5', '#009688', '#ff9800', '#9c27b0', '#4caf50', '#795548', '#00bcd4'];

/** A stable cursor colour per name. */
export function presenceColor(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}
