export async function main() {
  return "café";
}
