export const label = "api says";
