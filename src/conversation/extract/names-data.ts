/**
 * Common US first and last names. They raise confidence for bare answers ("jane") and go into
 * the offline recognizer's vocabulary: a grammar-constrained recognizer can only hear names it
 * has been told about, so flows that expect other names should add them to their vocabulary.
 */
export const COMMON_FIRST_NAMES: readonly string[] = `
james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kevin brian george edward ronald timothy jason jeffrey
ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel frank
gregory raymond alexander patrick jack dennis jerry tyler peter adam henry carlos jose luis juan
omar ahmed wei mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa
betty margaret sandra ashley kimberly emily donna michelle dorothy carol amanda melissa deborah
stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole
helen samantha katherine christine debra rachel carolyn janet catherine maria heather diane julie
joyce victoria olivia kelly christina lauren joan evelyn judith megan cheryl andrea hannah martha
jacqueline frances gloria ann jane alice grace sophia chloe lucy ada rosa fatima priya
sam alex chris matt mike tom ben nick dan joe jim bob bill kate liz
`
  .split(/\s+/)
  .filter(Boolean);

export const COMMON_LAST_NAMES: readonly string[] = `
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams
nelson baker hall rivera campbell mitchell carter roberts chen kim patel shah khan murphy cook
rogers morgan cooper peterson bailey reed kelly howard cox ward richardson watson brooks wood james
bennett gray hughes price sanders myers long ross foster powell jenkins perry russell sullivan bell
coleman butler henderson o'brien lovelace fischer weber schmidt rossi silva santos singh wang
parker evans edwards collins stewart morris turner phillips
`
  .split(/\s+/)
  .filter(Boolean);
