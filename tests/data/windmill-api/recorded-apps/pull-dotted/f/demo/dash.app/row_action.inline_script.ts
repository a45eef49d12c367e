export async function main() {
  return 2
}
