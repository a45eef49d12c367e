export async function main(name: string) {
  return `hi ${name}`
}
